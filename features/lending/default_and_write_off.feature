Feature: Default and write-off
  As a lender I want a loan that stays unpaid for 120 days written off in my books, so my
  returns tell the truth, and any money recovered later shared fairly.

  Scenario: A borrower defaults and the lenders see the write-off
    Given the time is 2 November 2026, 09:00
    And Bo has a loan of EUR 600.00 over 6 months from Lena and Lars at 12.00%
    And Bo has spent the money of the loan
    When the first instalment falls due and 120 more days pass with the daily work run
    Then Bo's loan is defaulted
    And Lena sees EUR 300.00 written off on her lending page
    And Lars sees EUR 300.00 written off on his lending page
    And the ledger holds one write-off entry for the loan
    When a deposit of EUR 100.00 reaches Bo's wallet
    And the daily work runs
    Then Lena and Lars each recovered EUR 50.00 before fees
    And the ledger check finds nothing wrong
