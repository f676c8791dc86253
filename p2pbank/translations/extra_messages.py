"""Messages that reach pages without a gettext call at their source, listed so that
`make translations` puts them in the catalog. Never imported: only pybabel reads it.

- titles of domain errors (class attributes in p2pbank/errors.py) and of HTTP errors
  (werkzeug), with werkzeug's descriptions of the common ones;
- the messages of the sign-in, two-factor and password-reset rate limits;
- marshmallow's fixed validation messages (ones with numbers in them stay in English);
- role names and identity-check (KYC) states, shown with `_(role)` / `_(status)`.
"""


def N_(text: str) -> str:
    return text


DOMAIN_ERROR_TITLES = (
    N_("Bad request"),
    N_("Not found"),
    N_("Forbidden"),
    N_("Conflict"),
    N_("Invalid state"),
    N_("Insufficient funds"),
    N_("Validation failed"),
    N_("Authentication required"),
)

HTTP_ERRORS = (
    N_("Bad Request"),
    N_("Unauthorized"),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("Gone"),
    N_("Request Entity Too Large"),
    N_("Unprocessable Entity"),
    N_("Too Many Requests"),
    N_("Internal Server Error"),
    N_("Service Unavailable"),
    N_("The browser (or proxy) sent a request that this server could not understand."),
    N_(
        "You don't have the permission to access the requested resource. It is either "
        "read-protected or not readable by the server."
    ),
    N_(
        "The requested URL was not found on the server. If you entered the URL manually "
        "please check your spelling and try again."
    ),
    N_("The method is not allowed for the requested URL."),
    N_(
        "A conflict happened while processing the request. The resource might have been "
        "modified while the request was being processed."
    ),
    N_(
        "The requested URL is no longer available on this server and there is no forwarding "
        "address. If you followed a link from a foreign page, please contact the author of "
        "this page."
    ),
    N_("The request was well-formed but was unable to be followed due to semantic errors."),
    N_(
        "The server encountered an internal error and was unable to complete your request. "
        "Either the server is overloaded or there is an error in the application."
    ),
)

RATE_LIMITS = (
    N_("Too many sign-in attempts."),
    N_("Too many sign-in attempts for this account."),
    N_("Too many two-factor attempts."),
    N_("Too many two-factor attempts for this account."),
    N_("Too many reset requests."),
    N_("Too many reset requests for this address."),
)

VALIDATION = (
    N_("Enter an amount such as 25.00."),  # p2pbank.amount_field
    N_("Enter an amount in euros, such as 250 or 1,250.50."),
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Invalid value."),
    N_("Not a valid string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid email address."),
    N_("Not a valid boolean."),
    N_("Not a valid list."),
    N_("Not a valid date."),
    N_("Not a valid URL."),
    N_("Unknown field."),
    N_("Invalid input type."),
)

ROLES_AND_STATES = (
    N_("lender"),
    N_("borrower"),
    N_("initiator"),
    N_("backer"),
    N_("auditor"),
    N_("admin"),
    N_("unverified"),
    N_("pending"),
    N_("verified"),
    N_("rejected"),
)
