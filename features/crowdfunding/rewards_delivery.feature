Feature: Rewards are shipped and confirmed
  As a backer I want to confirm that my reward arrived or report a problem; as a member I
  want campaigns that never deliver to show in their initiator's record.

  Background:
    Given the time is 2 November 2026, 9:00
    And a verified member Ian with the role initiator
    And a verified member Ann with the role backer
    And Ann has EUR 100.00 in the wallet
    And Ian has a live campaign "Street oven" with a goal of EUR 100.00 ending in 5 days
    And "Street oven" offers the reward "Loaf of bread" for EUR 100.00 delivered in December 2026
    And Ann pledges EUR 100.00 to "Street oven" for the reward "Loaf of bread"
    And the deadline of "Street oven" passes and the settlement job runs

  Scenario: Shipped and received
    When Ian marks the reward "Loaf of bread" of "Street oven" shipped
    And Ann confirms receipt of the reward from "Street oven"
    Then Ian's record shows 1 confirmed delivery out of 1

  Scenario: A reward that is never shipped becomes a trust event
    When 60 days pass
    And the settlement job runs
    Then the trust record of Ian shows the reward "Loaf of bread" as overdue
