Feature: Borrowing from several lenders and repaying on time
  As a borrower I want lenders to fund my loan in parts, each at their own rate, and to
  repay it month by month from my wallet, so that I borrow at a fair price and my limit
  grows. As a lender I want my share of every payment, to the cent.

  Background:
    Given the time is 2 November 2026, 09:00
    And a verified member Bo with the role borrower
    And a verified member Lena with the role lender
    And a verified member Lars with the role lender
    And a verified member Lou with the role lender
    And Lena has EUR 1000.00 in the wallet
    And Lars has EUR 1000.00 in the wallet
    And Lou has EUR 1000.00 in the wallet

  Scenario: A borrower funded by three lenders repays on time
    Given Bo is signed in
    When Bo asks for EUR 600.00 over 6 months at no more than 14.00% for "A used car to get to work"
    Then Bo sees the schedule with its APR and total cost before listing
    When Bo lists the request
    And Lena lends EUR 200.00 at 10.00% to Bo's listing
    And Lars lends EUR 250.00 at 14.00% to Bo's listing
    And Lou lends EUR 150.00 at 12.00% to Bo's listing
    Then Bo's loan of EUR 600.00 is issued with 3 lenders at their own rates
    And Bo's wallet shows available EUR 576.00, on hold EUR 0.00 and posted EUR 576.00
    And the platform kept an origination fee of EUR 24.00
    When every due date of Bo's loan passes with the daily work run
    Then Bo's loan is repaid
    And every payment was shared among the lenders to the cent
    And Lena, Lars and Lou each got back more than they lent
    And Bo's borrowing limit is EUR 3000.00
    And the ledger check finds nothing wrong

  Scenario: Borrowing is for verified borrowers, within their limit
    Given a member Kim with the role borrower
    And Kim is signed in
    When Kim asks for EUR 600.00 over 6 months at no more than 14.00% for "A used car to get to work"
    And Kim lists the request
    Then Kim is told "Your identity check (KYC) must be verified before you can borrow."
    Given Bo is signed in
    When Bo asks for EUR 2500.00 over 12 months at no more than 14.00% for "A bigger car to get to work"
    And Bo lists the request
    Then Bo is told "Over your limit of EUR 2,000.00"
    And nothing is listed
