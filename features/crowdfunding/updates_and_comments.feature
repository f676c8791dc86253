Feature: Updates and comments
  As an initiator I want to keep backers posted (some news only for them) and talk with the
  members who comment, with my answers marked as mine.

  Background:
    Given the time is 2 November 2026, 9:00
    And a verified member Ian with the role initiator
    And a verified member Ann with the role backer
    And a member Cas
    And Ann has EUR 100.00 in the wallet
    And Ian has a live campaign "Street oven" with a goal of EUR 1000.00 ending in 10 days
    And Ann pledges EUR 20.00 to "Street oven"

  Scenario: A backers-only update
    When Ian posts the backers-only update "Secret recipe" saying "Use rye flour"
    Then Ann reads "Use rye flour" on the page of "Street oven"
    And Cas cannot read "Use rye flour" on the page of "Street oven"
    And Cas reads "This update is for backers only." on the page of "Street oven"

  Scenario: The initiator's reply is marked
    When Cas comments "Is it gluten free?" on "Street oven"
    And Ian replies "Not yet, but soon" to the comment on "Street oven"
    Then the reply "Not yet, but soon" on "Street oven" is marked as the initiator's
