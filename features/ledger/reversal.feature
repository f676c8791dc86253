Feature: Corrections are reversals
  As an auditor I want a mistaken payment undone by a new, linked entry, never by changing
  or deleting the old one, so that the books keep their whole history.

  Scenario: A reversal restores the balance and keeps history
    Given a member Lena
    And a member Bo
    And an auditor Ada
    And Lena has EUR 100.00 in the wallet
    And Lena has paid Bo EUR 40.00
    When the payment is reversed because "sent by mistake"
    Then Lena's wallet shows available EUR 100.00, on hold EUR 0.00 and posted EUR 100.00
    And Bo's wallet shows available EUR 0.00, on hold EUR 0.00 and posted EUR 0.00
    And Lena's statement shows a transfer of EUR -40.00 with balance EUR 60.00
    And Lena's statement shows a reversal of EUR 40.00 with balance EUR 100.00
    And Ada sees the payment reversed by a linked entry
    And the payment cannot be reversed a second time
    And the ledger check finds nothing wrong
