Feature: Change or cancel a pledge until the deadline
  As a backer I want to change or cancel my pledge while the campaign runs; in its last
  24 hours I may only raise it, so the initiator can count on what is pledged.

  Background:
    Given the time is 2 November 2026, 9:00
    And a verified member Ian with the role initiator
    And a verified member Ann with the role backer
    And Ann has EUR 200.00 in the wallet
    And Ian has a live campaign "Street oven" with a goal of EUR 1000.00 ending in 10 days
    And Ann pledges EUR 100.00 to "Street oven"

  Scenario: Lower a pledge early on
    When Ann changes the pledge to "Street oven" to EUR 40.00
    Then Ann's wallet shows available EUR 160.00, on hold EUR 40.00 and posted EUR 200.00

  Scenario: In the last 24 hours a pledge can only go up
    When 9 days pass
    And Ann changes the pledge to "Street oven" to EUR 40.00
    Then Ann is told "In the last 24 hours a pledge can only be raised, not lowered."
    When Ann changes the pledge to "Street oven" to EUR 150.00
    Then Ann's wallet shows available EUR 50.00, on hold EUR 150.00 and posted EUR 200.00
