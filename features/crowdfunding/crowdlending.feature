Feature: Lend to a business through a campaign, with the EU investor protections
  As a lender I want to understand the risk before I invest, be warned when I invest more
  than I can afford to lose, and be able to change my mind within four days.

  Background:
    Given the time is 2 November 2026, 9:00
    And a verified member Ian with the role initiator
    And a verified member Lea with the role backer
    And Lea has EUR 5000.00 in the wallet
    And Ian has a live loan campaign "Bakery expansion" borrowing EUR 20000.00 at 6.50% for 24 months

  Scenario: The information sheet starts with the risk warning
    When Lea opens the information sheet of "Bakery expansion"
    Then Lea sees "This crowdfunding offer has been neither verified nor approved by competent authorities"
    And Lea sees "6.50% a year"

  Scenario: The knowledge test comes first
    When Lea tries to lend EUR 500.00 to "Bakery expansion"
    Then Lea is told "Pass the entry knowledge test before you lend"

  Scenario: A large pledge needs an explicit acknowledgment
    Given Lea passed the knowledge test and declared a net worth of EUR 40000.00
    When Lea tries to lend EUR 2000.01 to "Bakery expansion"
    Then Lea is told "Confirm that you understand the risk."
    When Lea lends EUR 2000.01 to "Bakery expansion" and confirms the risk
    Then Lea's wallet shows available EUR 2999.99, on hold EUR 2000.01 and posted EUR 5000.00

  Scenario: A backer revokes a loan pledge within the reflection period
    Given Lea passed the knowledge test and declared a net worth of EUR 40000.00
    When Lea lends EUR 1000.00 to "Bakery expansion"
    Then the progress of "Bakery expansion" shows EUR 1000.00 that may still be revoked
    When 3 days pass
    And Lea revokes the pledge to "Bakery expansion"
    Then Lea's wallet shows available EUR 5000.00, on hold EUR 0.00 and posted EUR 5000.00
    And Lea's pledge to "Bakery expansion" was revoked

  Scenario: After four days a loan pledge is binding
    Given Lea passed the knowledge test and declared a net worth of EUR 40000.00
    When Lea lends EUR 1000.00 to "Bakery expansion"
    And 4 days pass
    Then Lea can no longer revoke the pledge to "Bakery expansion"
