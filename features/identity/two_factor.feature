Feature: Two-factor sign-in
  A password can leak. With two-factor sign-in, a member also types a six-digit code
  from an authenticator app on their phone, so a stolen password alone opens nothing.
  Ten recovery codes, each usable once, get them in if the phone is lost. Auditors and
  admins must use it.

  Background:
    Given the time is 2 November 2026, 09:00

  Scenario: A member turns on two-factor sign-in
    Given a member Ann
    And Ann is signed in
    When Ann sets up two-factor sign-in with her authenticator app
    Then Ann sees "Two-factor sign-in is on."
    And Ann is shown 10 recovery codes to keep

  Scenario: Signing in then asks for the code from the app
    Given a member Ann who uses two-factor sign-in
    When Ann signs in with her password
    Then Ann is asked for her two-factor code
    And Ann is not signed in
    When a minute later Ann types the code from her app
    Then Ann sees her dashboard

  Scenario: A wrong code keeps the account closed
    Given a member Ann who uses two-factor sign-in
    When Ann signs in with her password
    And Ann types the code "000000"
    Then Ann is told "The code is wrong, expired or was already used."
    And Ann is not signed in

  Scenario: A code from the app works only once
    Given a member Ann who uses two-factor sign-in
    When Ann signs in with her password
    And a minute later Ann types the code from her app
    And Ann signs out
    And Ann signs in with her password
    And Ann types the same code again
    Then Ann is told "The code is wrong, expired or was already used."
    And Ann is not signed in

  Scenario: A recovery code gets a member in once, when the phone is lost
    Given a member Ann who uses two-factor sign-in
    When Ann signs in with her password
    And Ann types one of her recovery codes
    Then Ann sees her dashboard
    And Ann sees "You signed in with a recovery code. 9 codes are left"
    When Ann signs out
    And Ann signs in with her password
    And Ann types the same recovery code again
    Then Ann is told "The code is wrong, expired or was already used."
    And Ann is not signed in

  Scenario: An admin must set it up before doing anything else
    Given an admin Ada who has not set up two-factor sign-in
    When Ada signs in
    And Ada opens /dashboard
    Then Ada sees "requires two-factor sign-in"
    And Ada sees "Set up two-factor sign-in"
    When Ada sets up two-factor sign-in with her authenticator app
    And Ada opens /dashboard
    Then Ada sees "Hello, Ada"
