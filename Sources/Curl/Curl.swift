// Placeholder: libcurl wrappers land with the polling transport.
import CCurl
