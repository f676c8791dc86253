Feature: Paying late
  As a lender I want a borrower who misses an instalment to pay a late fee after the grace
  period; as a borrower I want to catch up, fee first, and be back in good standing.

  Scenario: A borrower pays late, pays the fee, and catches up
    Given the time is 2 November 2026, 09:00
    And Bo has a loan of EUR 600.00 over 6 months from Lena at 12.00%
    And Bo has spent the money of the loan
    When the first instalment falls due and 16 more days pass with the daily work run
    Then Bo's loan is late, 16 days past due, in the 16-30 day bucket
    And the first instalment owes a late fee of EUR 15.00
    When a deposit of EUR 200.00 reaches Bo's wallet
    And Bo pays now from the loan page
    Then the payment went to the late fee first, then the interest, then the principal
    And Bo's loan is active again
    And Lena received the late fee in full
    And the ledger check finds nothing wrong
