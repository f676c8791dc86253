Feature: Withdraw to a bank account
  Money leaves a wallet only for the owner's own payout account at the payment gateway,
  which pays it out to their bank. The amount is held first and taken only when the
  gateway accepted the transfer; if it refuses, the money stays in the wallet.
  Withdrawals need a verified identity check.

  Background:
    Given a verified member Lars with the role lender
    And Lars has deposited EUR 300.00 with a card
    And Lars is signed in

  Scenario: Lars withdraws to his bank account
    When Lars sets up payouts to the bank account DE89 3704 0044 0532 0130 00
    And Lars withdraws EUR 120.00
    Then Lars sees "€120.00 is on its way to your bank account."
    And Lars's wallet shows available EUR 180.00, on hold EUR 0.00 and posted EUR 180.00
    And the ledger check finds nothing wrong
    And the reconciliation with the gateway finds every amount matched

  Scenario: More than the wallet holds cannot be withdrawn
    When Lars sets up payouts to the bank account DE89 3704 0044 0532 0130 00
    And Lars withdraws EUR 300.01
    Then Lars is told "You have less than that available in your wallet."
    And Lars's wallet shows available EUR 300.00, on hold EUR 0.00 and posted EUR 300.00

  Scenario: A withdrawal needs a payout account
    When Lars opens /payments/withdraw
    Then Lars sees "Set up your payout account first."

  Scenario: Without a verified identity nothing can leave
    Given a member Bo with the role borrower
    And Bo is signed in
    When Bo opens /payments/withdraw
    Then Bo sees "Withdrawals need a verified identity check (KYC)."
