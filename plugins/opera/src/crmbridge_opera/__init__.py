"""crmbridge adapter for Oracle OPERA Cloud through OHIP REST.

``oauth`` gets and renews tokens, ``client`` sends business calls with retries, ``mapping``
turns OHIP JSON into canonical models, ``events`` drains Business Events into the durable
inbox, ``alerts`` pushes alerts and notes through the push ledger, ``adapter`` holds the hook
implementations and ``simulator`` a loopback OHIP server for the demo and the tests.
"""
