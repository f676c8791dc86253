Feature: Deposit money with a card
  Money enters a wallet only through the payment gateway, and only once the gateway has
  confirmed the card payment. Without a Stripe key the platform runs Stripe's test mode
  itself, takes Stripe's test cards, and says so on every page: no real money moves.

  Background:
    Given a member Lena with the role lender
    And Lena is signed in

  Scenario: A deposit with a good card reaches the wallet
    When Lena deposits EUR 250.00 with the card 4242 4242 4242 4242
    Then Lena sees "Payment received. The money is in your wallet."
    And Lena sees "test mode — no real money"
    And Lena's wallet shows available EUR 250.00, on hold EUR 0.00 and posted EUR 250.00
    And the gateway's fee of EUR 4.00 is booked as a platform expense
    And the ledger check finds nothing wrong

  Scenario Outline: A declined card changes nothing
    When Lena deposits EUR 100.00 with the card <card>
    Then Lena sees "<reason>"
    And Lena's wallet shows available EUR 0.00, on hold EUR 0.00 and posted EUR 0.00
    And no deposit was booked in the ledger

    Examples:
      | card                | reason                            |
      | 4000 0000 0000 0002 | Your card was declined.           |
      | 4000 0000 0000 9995 | Your card has insufficient funds. |

  Scenario: A card that asks for authentication pays once the payer confirms
    When Lena deposits EUR 60.00 with the card 4000 0027 6000 3184
    Then Lena sees "Your bank asks you to confirm this payment."
    And Lena's wallet shows available EUR 0.00, on hold EUR 0.00 and posted EUR 0.00
    When Lena completes the authentication
    Then Lena's wallet shows available EUR 60.00, on hold EUR 0.00 and posted EUR 60.00

  Scenario: A deposit below the minimum is refused
    When Lena tries to deposit EUR 5.00
    Then Lena is told "The smallest deposit is €10.00."
    And no deposit was booked in the ledger
