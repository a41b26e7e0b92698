// Placeholder: replaced as the module lands.
import COpenSSL
