Feature: A campaign that misses its goal charges nobody
  As a backer of an all-or-nothing campaign I want my money back in full when the goal is
  not reached, and my card never charged.

  Background:
    Given the time is 2 November 2026, 9:00
    And a verified member Ian with the role initiator
    And a verified member Ann with the role backer
    And a verified member Bob with the role backer
    And Ann has EUR 300.00 in the wallet
    And Ian has a live campaign "Street oven" with a goal of EUR 1000.00 ending in 10 days

  Scenario: Holds are released and cards are not charged
    When Ann pledges EUR 300.00 to "Street oven"
    And Bob pledges EUR 200.00 to "Street oven" by card 4242 4242 4242 4242
    And the deadline of "Street oven" passes and the settlement job runs
    Then "Street oven" has failed
    And Ann's wallet shows available EUR 300.00, on hold EUR 0.00 and posted EUR 300.00
    And no card was charged
    And Ann and Bob were told that "Street oven" did not reach its goal
    And Ian's wallet shows available EUR 0.00, on hold EUR 0.00 and posted EUR 0.00
    And the ledger check finds nothing wrong
