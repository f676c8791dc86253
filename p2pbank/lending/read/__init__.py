"""Read models for the lending pages and API, one module per screen or concern.

Authorization is checked here: a person sees their own requests, orders and loans
(admins see all); listings open for funding are public to members.
"""
