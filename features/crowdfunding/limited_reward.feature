Feature: A limited reward sells out
  As a backer I want a limited reward to be mine once I have pledged for it, and nobody to
  be sold a reward that is no longer there.

  Background:
    Given the time is 2 November 2026, 9:00
    And a verified member Ian with the role initiator
    And a verified member Ann with the role backer
    And a verified member Bob with the role backer
    And Ann has EUR 100.00 in the wallet
    And Bob has EUR 100.00 in the wallet
    And Ian has a live campaign "Street oven" with a goal of EUR 1000.00 ending in 10 days
    And "Street oven" offers the reward "Baking class" for EUR 50.00 limited to 1

  Scenario: The last slot goes to the first backer
    When Ann pledges EUR 50.00 to "Street oven" for the reward "Baking class"
    And Bob tries to pledge EUR 60.00 to "Street oven" for the reward "Baking class"
    Then Bob is told "This reward is sold out."
    And the page of "Street oven" shows the reward "Baking class" as sold out
    And Bob's wallet shows available EUR 100.00, on hold EUR 0.00 and posted EUR 100.00

  Scenario: A cancelled pledge frees the slot
    When Ann pledges EUR 50.00 to "Street oven" for the reward "Baking class"
    And Ann cancels the pledge to "Street oven"
    And Bob pledges EUR 50.00 to "Street oven" for the reward "Baking class"
    Then the page of "Street oven" shows the reward "Baking class" as sold out
    And Ann's wallet shows available EUR 100.00, on hold EUR 0.00 and posted EUR 100.00
