Feature: An auditor verifies the trust log
  Every trust event and the hash of every ledger entry go into an append-only Merkle log,
  and the platform signs checkpoints of it. An auditor checks the log with their own tool,
  trusting nothing but the platform's public key: if anyone changes an entry afterwards,
  even directly in the database, the auditor finds out which one.

  Background:
    Given an auditor Ada
    And a verified member Vera with the role lender
    And a verified member Bo with the role borrower
    And the platform has signed a checkpoint of the trust log

  Scenario: an auditor verifies the log and catches a tampered entry
    When Ada verifies the trust log with the platform's public key
    Then the verifier says the log holds
    When someone with database access changes trust log entry 2
    And Ada verifies the trust log again
    Then the verifier fails and names entry 2 as the first bad entry

  Scenario: the log keeps growing and the auditor checks it only grew
    Given Ada has verified the trust log once
    And a verified member Cleo with the role backer
    And the platform has signed a checkpoint of the trust log
    When Ada verifies the trust log again
    Then the verifier says the log holds
    And the verifier says the new log extends the one Ada verified before

  Scenario: an auditor follows one entry's inclusion proof in the browser
    Given Ada is signed in
    When Ada checks the inclusion proof of trust log entry 1
    Then Ada sees "The proof verifies: entry 1 is in this tree."

  Scenario: an auditor with an API token catches a journal entry rewritten in the database
    Given Vera has EUR 100.00 in the wallet
    And Ada has a read-only API token
    And the platform has signed a checkpoint of the trust log
    When someone with database access raises Vera's deposit by EUR 9000.00, balances and hash included
    And Ada verifies the trust log and the journal with her API token
    Then the verifier fails and names Vera's deposit as the first bad journal entry
    And the ledger check names Vera's deposit as the first entry that differs from the trust log

  Scenario: an entry rewritten together with its stored hash is still named exactly
    When someone with database access rewrites trust log entry 3 and its stored hash
    And Ada verifies the trust log with the platform's public key
    Then the verifier fails and names entry 3 as the first bad entry
