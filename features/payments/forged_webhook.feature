Feature: A forged webhook is refused
  The gateway tells the platform about payments with webhooks, signed with a secret only
  the gateway and the platform know. A message with a wrong signature, an old message,
  or a genuine message sent twice never moves money.

  Background:
    Given a member Lena
    And Lena has started a deposit of EUR 500.00
    And Lena has paid it with the card 4242 4242 4242 4242

  Scenario: A payment confirmation signed with the wrong secret is refused
    When someone sends the payment confirmation for Lena's deposit signed with another secret
    Then the webhook is refused with 400
    And Lena's deposit is still pending
    And no deposit was booked in the ledger

  Scenario: A payment confirmation whose signed body was changed is refused
    When someone sends the payment confirmation for Lena's deposit with the amount changed to EUR 5000.00
    Then the webhook is refused with 400
    And no deposit was booked in the ledger

  Scenario: An old payment confirmation is refused
    When someone sends the payment confirmation for Lena's deposit signed 10 minutes ago
    Then the webhook is refused with 400
    And Lena's deposit is still pending

  Scenario: The genuine confirmation counts once, however often it arrives
    When the gateway delivers the payment confirmation for Lena's deposit
    And the same delivery arrives again
    Then the second delivery is acknowledged as a duplicate
    And Lena's wallet shows available EUR 500.00, on hold EUR 0.00 and posted EUR 500.00
