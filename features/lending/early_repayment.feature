Feature: Repaying early
  As a borrower I want to repay my loan early without a penalty, paying interest only for
  the days I had the money.

  Scenario: Early full repayment
    Given the time is 2 November 2026, 09:00
    And Bo has a loan of EUR 600.00 over 6 months from Lena at 12.00%
    And Bo has EUR 50.00 in the wallet
    When 10 days pass
    And Bo repays the whole loan early from the loan page
    Then Bo's loan is repaid
    And Bo paid EUR 600.00 of principal and interest for 10 days only
    And Lena has nothing lent out any more
    And the ledger check finds nothing wrong
