# Makes plugins/<name>/tests importable as plugins.<name>.tests, so the four plugins'
# test packages do not collide under one pytest run. Not part of the distribution.
