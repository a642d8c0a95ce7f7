// Boost.URL's compiled part: Debian 12 ships no libboost_url, so it is built here, once.
#include <boost/url/src.hpp>
