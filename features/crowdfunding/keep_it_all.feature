Feature: A keep-it-all campaign pays out below its goal
  As an initiator of a keep-it-all campaign I want whatever was pledged, even when the goal
  is not reached.

  Scenario: Half the goal is still paid out
    Given the time is 2 November 2026, 9:00
    And a verified member Ian with the role initiator
    And a verified member Ann with the role backer
    And Ann has EUR 500.00 in the wallet
    And Ian has a live keep-it-all campaign "Community garden" with a goal of EUR 1000.00 ending in 5 days
    When Ann pledges EUR 500.00 to "Community garden"
    And the deadline of "Community garden" passes and the settlement job runs
    Then "Community garden" has succeeded
    And Ian's payout statement for "Community garden" shows a platform fee of EUR 25.00, card fees of EUR 0.00 and EUR 475.00 paid out
    And Ian's wallet shows available EUR 475.00, on hold EUR 0.00 and posted EUR 475.00
    And the ledger check finds nothing wrong
