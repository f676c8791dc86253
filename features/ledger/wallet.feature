Feature: My wallet
  As a member I want to see the money in my wallet, what of it is on hold, and every
  movement with the balance after it, so that I always know what I can spend.

  Background:
    Given a member Lena
    And a member Bo

  Scenario: A deposit shows in the wallet
    Given Lena is signed in
    When a deposit of EUR 25.00 reaches Lena's wallet
    And Lena opens /wallet
    Then Lena's wallet shows available EUR 25.00, on hold EUR 0.00 and posted EUR 25.00
    And Lena's statement shows a deposit of EUR 25.00 with balance EUR 25.00
    And Bo's wallet shows available EUR 0.00, on hold EUR 0.00 and posted EUR 0.00

  Scenario: Money on hold is not spendable
    Given Lena has EUR 100.00 in the wallet
    And EUR 80.00 of Lena's wallet is on hold for a pledge
    When Lena tries to pay Bo EUR 30.00
    Then the payment is refused for insufficient funds
    And Lena's wallet shows available EUR 20.00, on hold EUR 80.00 and posted EUR 100.00
    And Bo's wallet shows available EUR 0.00, on hold EUR 0.00 and posted EUR 0.00

  Scenario: Money that is no longer on hold is spendable again
    Given Lena has EUR 100.00 in the wallet
    And EUR 80.00 of Lena's wallet is on hold for a pledge
    When the hold on Lena's wallet is released
    And Lena tries to pay Bo EUR 30.00
    Then the payment goes through
    And Lena's wallet shows available EUR 70.00, on hold EUR 0.00 and posted EUR 70.00
