Feature: Questions and answers on a listing
  As a lender I want to ask the borrower a public question before I lend, and see how
  fast borrowers answer, so that I can decide on facts rather than guesses.

  Scenario: A lender asks, the borrower answers within a few hours, everyone sees it
    Given a borrower Bo with an open listing
    And a lender Lena
    When Lena asks Bo "Is the car for commuting?"
    Then the listing shows the question as unanswered for 0 h
    When 5 hours pass
    And Bo answers "Yes, to my new job."
    Then the listing shows the answer "Yes, to my new job." answered in 5 h
    And Bo's record shows 1 of 1 questions answered within 24 hours

  Scenario: A question left unanswered for a day counts against the borrower
    Given a borrower Bo with an open listing
    And a lender Lena
    When Lena asks Bo "What is your income?"
    And 26 hours pass
    Then the listing shows the question as unanswered for 26 h
    And Bo's record shows 0 of 1 questions answered within 24 hours

  Scenario: Only the borrower answers
    Given a borrower Bo with an open listing
    And a lender Lena
    When Lena asks Bo "Why this amount?"
    And Lena tries to answer her own question
    Then she is refused
