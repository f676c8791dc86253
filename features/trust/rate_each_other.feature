Feature: Two parties rate each other and see both at once
  When a loan ends, its borrower and each of its lenders may rate each other once, within
  60 days. A rating stays sealed until the other side has rated too, so nobody rates in
  reply to what they have read; then both ratings are shown at once. When the other side
  stays silent, a rating is shown 14 days after it was given, and the other side's
  chance to rate is over.

  Background:
    Given the time is 2 November 2026, 09:00
    And a verified member Bo with the role borrower
    And a verified member Lena with the role lender
    And Bo's loan from Lena is completed

  Scenario: Both ratings are shown once both have rated
    Given Lena is signed in
    And Bo is signed in
    When Lena rates Bo "positive" saying "Paid every instalment on time"
    Then Lena sees "Your rating stays sealed until Bo rates you too"
    When Bo opens /trust/ratings
    Then Bo sees "Lena has rated you; rate to see it."
    And Bo does not see "Paid every instalment on time"
    When Bo rates Lena "positive" saying "Clear and patient"
    Then Bo sees "Both ratings are now shown."
    And Bo sees "Paid every instalment on time"
    When Lena opens /trust/ratings
    Then Lena sees "Clear and patient"
    And the trust log shows both ratings revealed together

  Scenario: A rating the other side never answers is shown after 14 days
    Given Lena is signed in
    And Bo is signed in
    When Lena rates Bo "negative" saying "Three weeks late"
    And 13 days pass
    And Lena looks at Bo's profile
    Then Lena does not see "Three weeks late"
    When 1 day passes
    And Lena looks at Bo's profile
    Then Lena sees "Three weeks late"
    And Bo can no longer rate Lena
