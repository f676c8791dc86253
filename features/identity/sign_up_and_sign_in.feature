Feature: Sign up and sign in
  To lend, borrow or fund a project, a person first needs an account of their own.
  Anyone can create one with an e-mail address and a good password, confirm it with the
  link we mail to that address, and come back to it later by signing in. The sign-up
  form never tells whether an address already has an account: only the address's owner
  hears about it, by mail.

  Scenario: A newcomer creates an account and lands on their dashboard
    When Nina signs up as a lender with a strong password
    Then Nina is asked to check her mail
    And there is no account for Nina
    When Nina opens the sign-up link in her mail and confirms
    Then Nina sees her dashboard
    And Nina sees "Welcome to p2pbank, Nina."
    And Nina holds the roles lender

  Scenario: A common password is refused
    When Nina signs up with the password "password1234"
    Then Nina is told "This password is too common; choose another."
    And there is no account for Nina

  Scenario: A short password is refused
    When Nina signs up with the password "Sh0rt-pass"
    Then Nina is told "Use at least 12 characters."
    And there is no account for Nina

  Scenario: Signing up with a taken address tells only the owner of the address
    Given a member Ann
    When someone else signs up with Ann's e-mail address
    Then they are told "Check your mail"
    And they are not told "exists"
    And Ann gets a mail "Someone tried to sign up with your address"
    And Ann still has one account, with her own password

  Scenario: A member signs in and out again
    Given a member Ann with the role borrower
    When Ann signs in
    Then Ann sees her dashboard
    When Ann signs out
    Then Ann is signed out
    And Ann sees "You are signed out."

  Scenario: A wrong password does not open the account
    Given a member Ann
    When Ann signs in with the password "not-my-password-9"
    Then Ann is told "E-mail address or password is wrong."
    And Ann is not signed in

  Scenario: An unknown e-mail address gets the same answer as a wrong password
    When someone signs in as ghost@example.test
    Then they are told "E-mail address or password is wrong."

  Scenario: A private page asks for signing in first
    When Ann opens /dashboard without being signed in
    Then Ann is asked to sign in
