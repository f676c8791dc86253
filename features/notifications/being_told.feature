Feature: Being told what happens
  As a member I want to hear about what happens to my loans and my money: under the bell
  on every page, and by mail for the kinds I keep on, so I never have to go and look.

  Background:
    Given the time is 2 November 2026, 09:00
    And Lena lent EUR 600.00 to Bo over 6 months

  Scenario: A lender is told about repayment income
    Given Bo has EUR 200.00 in his wallet
    When the first instalment of Bo's loan falls due and the daily work runs
    Then Lena's bell shows unread notifications
    And Lena finds "You received" on her notifications page
    And Lena gets a mail saying "You received"

  Scenario: A borrower is told about a due instalment
    When it is 3 days before the first instalment of Bo's loan and the daily work runs
    Then Bo finds "Instalment 1 of loan" on his notifications page
    And Bo gets a mail saying "Instalment 1 of loan"

  Scenario: A member turns off an e-mail kind and gets only the in-app notification
    Given Lena turned off mail about "Repayment income received" in her settings
    And Bo has EUR 200.00 in his wallet
    When the first instalment of Bo's loan falls due and the daily work runs
    Then Lena finds "You received" on her notifications page
    But Lena gets no mail saying "You received"
    When Lena marks all her notifications read
    Then Lena's bell shows no unread notifications
