Feature: The due work runs on its own
  The platform moves forward without anyone typing `flask tick`: beside the web server,
  `make run` starts a worker and the scheduler (Celery beat), which scans for due work on
  its own schedule and hands each unit (here, a loan with an instalment due) to a worker.

  Scenario: A real worker collects a due instalment without anyone calling tick
    Given a loan whose first instalment is due today, with the money in the borrower's wallet
    And a worker and the scheduler are running on the embedded broker
    When nobody does anything for a while
    Then the instalment has been collected exactly once
    And the worker's heartbeat and the scan are on record
    And the books balance
