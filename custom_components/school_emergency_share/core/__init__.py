"""The rules of an agreement, its emergency session and its viewer links.

Plain Python with no Home Assistant import: data in, decisions out, the clock
passed in. The Home Assistant modules translate to and from this package and
hold no policy of their own.
"""
