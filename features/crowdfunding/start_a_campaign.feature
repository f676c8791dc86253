Feature: Start a campaign
  As an initiator I want to describe my project, offer rewards and launch it, so that people
  can back it; once it is live its goal, deadline and model no longer change.

  Background:
    Given the time is 2 November 2026, 9:00
    And a verified member Ian with the role initiator
    And Ian is signed in

  Scenario: An initiator launches a campaign with a limited reward
    When Ian starts a campaign "Street oven" with a goal of EUR 1000.00 for 30 days
    And Ian adds the reward "Loaf of bread" for EUR 25.00 limited to 10
    And Ian launches "Street oven"
    Then "Street oven" is live and ends on 2 December 2026
    And the page of "Street oven" shows the reward "Loaf of bread" with 10 of 10 left
    And the goal of "Street oven" can no longer be changed

  Scenario: A story cannot carry scripts
    When Ian starts a campaign "Sneaky" with the story "Hi <script>alert(1)</script> [x](javascript:alert(2))"
    Then the story of "Sneaky" contains no script and no javascript link
