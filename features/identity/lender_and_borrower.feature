Feature: One person as lender and borrower
  A person is not only a lender or only a borrower: the same account can lend money
  to others and ask for a loan, and take on more roles later. Only an admin can make
  someone an auditor or an admin, and every role given is on record.

  Scenario: Signing up as both lender and borrower
    When Lea signs up as a lender and borrower with a strong password
    And Lea opens the sign-up link in her mail and confirms
    Then Lea sees her dashboard
    And Lea holds the roles borrower and lender
    And the record shows Lea took the roles borrower and lender herself

  Scenario: A lender also becomes a borrower later
    Given a member Lea with the role lender
    And Lea is signed in
    When Lea also becomes a borrower
    Then Lea sees "You now also act as borrower."
    And Lea holds the roles borrower and lender
    And the record shows Lea took the roles borrower and lender herself

  Scenario: The API tells the same story as the dashboard
    Given a member Lea with roles lender and borrower
    And Lea has a read API token
    When Lea asks the API for /api/v1/me
    Then the API answers 200
    And the API lists the roles borrower and lender

  Scenario: Nobody makes themselves an admin
    When Max signs up as an admin with a strong password
    Then Max is told "Must be one of: backer, borrower, initiator, lender."
    And there is no account for Max

  Scenario: Nobody gives themselves the auditor role
    Given a member Lea with the role lender
    And Lea is signed in
    When Lea also becomes an auditor
    Then Lea holds the roles lender

  Scenario: An admin makes a member an auditor, on record
    Given an admin Ada
    And a member Lea with the role lender
    And Ada is signed in
    When Ada makes Lea an auditor because "yearly books review"
    Then Ada sees "Role auditor granted."
    And the record shows Ada gave Lea the role auditor because "yearly books review"
    When Lea signs in
    Then Lea is asked to set up two-factor sign-in first
    When Lea sets up two-factor sign-in with her authenticator app
    Then Lea holds the roles auditor and lender
