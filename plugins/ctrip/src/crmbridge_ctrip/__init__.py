"""Ctrip / Trip.com hotel direct connect for crmbridge.

Ctrip is the client: it POSTs SOAP 1.1 envelopes carrying OpenTravel XML (``OTA_HotelResRQ``,
``OTA_HotelResModifyRQ``, ``OTA_CancelRQ``, ``OTA_ReadRQ``) to the receiver, authenticated by
``POS/Source/RequestorID`` ``ID`` and ``MessagePassword``, and expects the matching ``…RS``.
"""
