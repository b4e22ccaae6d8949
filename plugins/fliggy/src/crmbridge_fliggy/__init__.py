"""Fliggy (飞猪) adapter: the Taobao Open Platform order pull and the direct-connect push."""
