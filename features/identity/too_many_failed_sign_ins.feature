Feature: Too many failed sign-ins
  Someone who guesses passwords must not get unlimited tries. After a handful of
  failed attempts on one account from one place, or many attempts from one place, sign-in
  is paused there for a while with a clear message, and the answer says when to try again.
  The guesser cannot lock the owner out: the pause holds only where the guesses came from.

  Scenario: Guessing one member's password gets that account paused for the guesser
    Given a member Ann
    When someone tries to sign in as Ann with a wrong password 5 times
    Then the next sign-in as Ann from that place is refused, even with the right password
    And the answer says "Too many sign-in attempts for this account."
    And the answer says when to try again

  Scenario: Someone else's guesses do not lock the owner out
    Given a member Ann
    When someone tries to sign in as Ann with a wrong password 5 times
    And Ann signs in from her own computer
    Then Ann sees her dashboard

  Scenario: A paused account does not pause other members
    Given a member Ann
    And a member Bob
    When someone tries to sign in as Ann with a wrong password 5 times
    And Bob signs in
    Then Bob sees his dashboard

  Scenario: Trying many accounts from one place gets that place paused
    Given a member Ann
    When someone tries 20 different e-mail addresses from one place
    Then the next sign-in as Ann from that place is refused, even with the right password
    And the answer says "Too many sign-in attempts."
    And the answer says when to try again

  Scenario: A few mistakes are forgiven
    Given a member Ann
    When someone tries to sign in as Ann with a wrong password 4 times
    And Ann signs in
    Then Ann sees her dashboard
