Feature: A borrower who repays on time rises a grade
  The risk grade rests on hard repayment facts before opinions. A new borrower starts at
  grade D: nothing is known yet. Every instalment paid on time is evidence, and after a
  year of them the grade rises. The reasons are given in plain words, the change is in
  the public trust log, and lending grades the borrower's next listing with it.

  Scenario: A year of on-time instalments lifts Bo from D to C
    Given the time is 2 November 2026, 09:00
    And a verified member Bo with the role borrower
    And a verified member Lena with the role lender
    And Bo has EUR 500.00 in his wallet
    And Lena has EUR 2000.00 in her wallet
    And Lena lends Bo EUR 1000.00 over 12 months
    And Bo is signed in
    When Bo looks at his own profile
    Then Bo sees grade D
    And Bo sees "no repayment history yet"
    When the daily jobs run on each of Bo's due dates
    Then Bo's loan is repaid
    When Bo looks at his own profile
    Then Bo sees grade C
    And Bo sees "12 instalments repaid on time"
    And the trust log records Bo's grade rising from D to C
    And Bo's next loan request is listed with grade C
