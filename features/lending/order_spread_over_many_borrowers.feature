Feature: An auto-invest order spread over many borrowers
  As a lender I want my order to lend small slices to many borrowers, never more than my
  cap to any one of them, so that no single default can hurt me much.

  Scenario: One lender's order is spread over many borrowers
    Given the time is 2 November 2026, 09:00
    And verified borrowers Ann, Ben, Cat, Dee and Eli each ask for EUR 500.00 over 12 months at up to 12.00%
    And a verified member Lena with the role lender
    And Lena has EUR 1000.00 in the wallet
    And Lena is signed in
    When Lena places an order of EUR 200.00 in slices of EUR 25.00 for grade D at 9.00% or more
    Then Lena's order lent EUR 25.00 to each of the 5 borrowers
    And Lena's order still holds EUR 75.00 for new listings
    And Lena's wallet shows available EUR 800.00, on hold EUR 200.00 and posted EUR 1000.00
    And every listing explains that Lena's order took EUR 25.00 at 9.00%
    And the ledger check finds nothing wrong
