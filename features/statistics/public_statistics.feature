Feature: Public statistics of the loan book
  As anyone thinking of lending here, without an account, I want to see how the platform
  is doing -- loans issued, the interest they pay, how many went into default against
  what was expected, how campaigns fare -- so that I can judge the risk before I sign up.

  Scenario: A visitor reads the default rates, also as CSV
    Given a loan of EUR 600.00 to Dana and a loan of EUR 1400.00 to Eli, both grade D
    And Dana's loan went into default
    When a visitor opens the statistics page
    Then the page shows 2 loans issued for EUR 2000.00
    And the default rates for grade D show EUR 600.00 in default, an actual rate of 30.00% beside an expected 9.00%
    And the page explains how the default rates are calculated
    And the same default rate is in the CSV download

  Scenario: The front door shows the platform at work
    Given a loan of EUR 1000.00 to Fay, grade D
    And an open loan request by Gus
    When a visitor opens the home page
    Then the home page shows EUR 1000.00 lent in 1 loan
    And the home page shows Gus's open request without his name
