Feature: A declined card gets seven days to be fixed
  As a backer whose card is declined when the campaign succeeds, I want a week to add
  another card, so my pledge still counts; after that it is dropped and nothing is charged.

  Background:
    Given the time is 2 November 2026, 9:00
    And a verified member Ian with the role initiator
    And a verified member Ann with the role backer
    And a verified member Bob with the role backer
    And Ann has EUR 800.00 in the wallet
    And Ian has a live campaign "Street oven" with a goal of EUR 1000.00 ending in 10 days
    And Ann pledges EUR 800.00 to "Street oven"
    And Bob pledges EUR 200.00 to "Street oven" by card 4000 0000 0000 0341

  Scenario: Fixed within seven days
    When the deadline of "Street oven" passes and the settlement job runs
    Then Bob's pledge to "Street oven" waits for a new card
    And "Street oven" is collecting
    When 6 days pass
    And Bob fixes the card for "Street oven" with 4242 4242 4242 4242
    Then "Street oven" has succeeded
    And Ian's payout statement for "Street oven" shows a platform fee of EUR 50.00, card fees of EUR 3.25 and EUR 946.75 paid out

  Scenario: Not fixed in time
    When the deadline of "Street oven" passes and the settlement job runs
    And 7 days pass
    And the settlement job runs
    Then Bob's pledge to "Street oven" was dropped
    And "Street oven" has succeeded
    And Ian's payout statement for "Street oven" shows a platform fee of EUR 40.00, card fees of EUR 0.00 and EUR 760.00 paid out
    And the ledger check finds nothing wrong
