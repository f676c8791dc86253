Feature: A listing that is not funded in time
  As a lender I want my money back when a listing I committed to ends unfunded, so that
  it is never stuck; as a borrower I want to know the listing has ended.

  Scenario: A listing expires unfunded and the money returns
    Given the time is 2 November 2026, 09:00
    And a verified member Bo with the role borrower
    And a verified member Lena with the role lender
    And a verified member Lars with the role lender
    And Lena has EUR 500.00 in the wallet
    And Lars has EUR 500.00 in the wallet
    And Bo has listed a request for EUR 1000.00 over 12 months at up to 12.00%
    And Lena has lent EUR 300.00 at 10.00% to Bo's listing
    And Lars has an order of EUR 100.00 for grade D at 9.00% or more
    Then Lena's wallet shows available EUR 200.00, on hold EUR 300.00 and posted EUR 500.00
    When 14 days pass
    And the daily work runs
    Then Bo's listing has expired
    And Lena's wallet shows available EUR 500.00, on hold EUR 0.00 and posted EUR 500.00
    And Lars's order holds its EUR 100.00 again for other listings
    And the ledger check finds nothing wrong
