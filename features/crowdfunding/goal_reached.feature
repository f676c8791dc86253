Feature: A campaign that reaches its goal pays its initiator
  As an initiator I want the money pledged to reach me when my all-or-nothing campaign
  reaches its goal, minus the platform fee and the card fees, each shown separately.

  Background:
    Given the time is 2 November 2026, 9:00
    And a verified member Ian with the role initiator
    And a verified member Ann with the role backer
    And a verified member Bob with the role backer
    And Ann has EUR 600.00 in the wallet
    And Ian has a live campaign "Street oven" with a goal of EUR 1000.00 ending in 10 days

  Scenario: Wallet and card pledges are collected and the initiator is paid
    When Ann pledges EUR 600.00 to "Street oven"
    And Bob pledges EUR 400.00 to "Street oven" by card 4242 4242 4242 4242
    Then Ann's wallet shows available EUR 0.00, on hold EUR 600.00 and posted EUR 600.00
    And the progress of "Street oven" shows EUR 600.00 firm and EUR 400.00 pending
    When the deadline of "Street oven" passes and the settlement job runs
    Then "Street oven" has succeeded
    And Ann's wallet shows available EUR 0.00, on hold EUR 0.00 and posted EUR 0.00
    And Ian's payout statement for "Street oven" shows a platform fee of EUR 50.00, card fees of EUR 6.25 and EUR 943.75 paid out
    And Ian's wallet shows available EUR 943.75, on hold EUR 0.00 and posted EUR 943.75
    And the ledger check finds nothing wrong
