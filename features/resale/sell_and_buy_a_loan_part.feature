Feature: Selling and buying a loan part on the secondary market
  A lender who wants their money back before the loan ends offers their part; another
  lender buys it at the price shown, and the next payments go to the buyer.

  Scenario: A part changes hands at a discount
    Given a running loan in which Lena holds a part of EUR 200.00
    When Lena offers her part at 2 % below its principal
    And Bea buys it at the price she was shown
    Then Bea's wallet paid the price and the accrued interest
    And Lena's wallet got that less the platform's 1 % fee
    And the next instalment of the part goes to Bea

  Scenario: Nobody buys their own part
    Given a running loan in which Lena holds a part of EUR 200.00
    When Lena offers her part at 2 % below its principal
    Then Lena cannot buy her own part
