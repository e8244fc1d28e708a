"""The API's shared rules: who may read, one error shape, pages and money.

Every app's API module builds on these, so each endpoint answers the same way:
staff read, operators (see ``trading.permissions``) change things, errors are
``{"error": {"code", "message", "fields"?}}`` and lists come in pages. Named in
REST_FRAMEWORK, so this module must not import ``rest_framework.views`` at the top.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rest_framework import exceptions, serializers
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from kalshiweb.paging import page_number

if TYPE_CHECKING:
    from rest_framework.views import APIView

CENT = Decimal("0.01")


class IsStaff(BasePermission):
    """Read-only users are active staff; every API view needs at least this."""

    message = "The API is for staff accounts."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user: Any = request.user
        return bool(user and user.is_active and user.is_staff)


class Conflict(exceptions.APIException):
    """409: the request is valid but clashes with the system's state (e.g. an order of another trading mode)."""

    status_code = 409
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class Unavailable(exceptions.APIException):
    """503: something the request needs (the exchange, a broker) cannot be reached or may not be used now."""

    status_code = 503
    default_detail = "A service this request needs is unavailable."
    default_code = "unavailable"


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, with a body nested too deeply for Python's decoder answered as a 400, not a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None


class Pagination(PageNumberPagination):
    """100 rows a page by default; ``?page_size=`` up to 500."""

    page_size_query_param = "page_size"
    max_page_size = 500


class UncountedPages(Pagination):
    """Numbered pages with ``next`` and ``previous`` links and no ``count``, for a log kept in another order
    than time (forecasts by city and day), which a cursor cannot follow.

    A page reads one row more than it shows to know whether there is a next. Counting a year's forecasts took
    21 ms on PostgreSQL, more than reading the page.
    """

    number: int
    has_next: bool
    url: str  # the page's own, which the links vary

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        self.request = request
        size = self.get_page_size(request)
        if not size:
            return None
        number = page_number(request.query_params.get(self.page_query_param, "1"))
        if number is None:
            raise exceptions.NotFound(self.invalid_page_message)
        self.number, self.url = number, request.build_absolute_uri()
        start = (self.number - 1) * size
        rows = list(queryset[start : start + size + 1])
        if not rows and self.number > 1:
            raise exceptions.NotFound(self.invalid_page_message)
        self.has_next = len(rows) > size
        return rows[:size]

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        counted = super().get_paginated_response_schema(schema)
        properties = {name: value for name, value in counted["properties"].items() if name != "count"}
        return {**counted, "required": ["results"], "properties": properties}

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        return replace_query_param(self.url, self.page_query_param, self.number + 1)

    def get_previous_link(self) -> str | None:
        if self.number == 1:
            return None
        if self.number == 2:
            return remove_query_param(self.url, self.page_query_param)
        return replace_query_param(self.url, self.page_query_param, self.number - 1)


class LogPages(CursorPagination):
    """Pages of a log that grows every cycle or every hour: ``next`` and ``previous`` links, no count.

    Counting millions of rows for a page number costs more than the page, and a deep page number scans
    every row before it; a cursor starts each page where the last one ended, along an index on the
    subclass's ``ordering``. 100 rows a page by default; ``?page_size=`` up to 500.
    """

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


class Dollars(serializers.DecimalField):
    """Money and prices as strings: whole cents as "10.00", finer prices exactly ("0.0550" → "0.055")."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 16)
        kwargs.setdefault("decimal_places", 6)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        amount = Decimal(value)
        cents = amount.quantize(CENT)
        return f"{cents if cents == amount else amount.normalize():f}"


def view_name(view: APIView) -> str:
    """A view's title on the browsable API: DRF's, without our classes' "Api" suffix ("Forecast List", not
    "Forecast List Api"). A view may name itself (``name``), as DRF's own do."""
    from rest_framework.views import get_view_name  # see the module's note

    return get_view_name(view).removesuffix(" Api")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error as ``{"error": {"code", "message", "fields"?}}``, keeping DRF's status and headers."""
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: let Django answer 500 and log it
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"error": {"code": "invalid", "message": "Invalid input.", "fields": fields}}
        return response
    detail = getattr(exc, "detail", response.data.get("detail", "")) if isinstance(response.data, dict) else ""
    code = detail.code if isinstance(detail, exceptions.ErrorDetail) and detail.code else "error"
    response.data = {"error": {"code": code, "message": str(detail)}}
    return response


class DollarsModelSerializer(serializers.ModelSerializer[Any]):
    """A ModelSerializer that renders every price and money column (6 decimals) as :class:`Dollars`."""

    def build_standard_field(self, field_name: str, model_field: Any) -> tuple[type, dict[str, Any]]:
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if field_class is serializers.DecimalField and getattr(model_field, "decimal_places", None) == 6:
            return Dollars, kwargs
        return field_class, kwargs


ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error the API answers.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": 'e.g. "invalid", "not_found", "throttled", "conflict".'},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "Only for 400 invalid: each field's (or non_field_errors') messages.",
                    "additionalProperties": {},
                },
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_MEANINGS = {
    "400": "Invalid input: the fields say which and why.",
    "401": "Not authenticated: log in or send a token.",
    "403": "Authenticated, but not allowed (staff read; operators change).",
    "404": "No such object, page or endpoint.",
    "429": "Throttled: retry after the Retry-After header's seconds.",
}


def _errors_of(operation: dict[str, Any]) -> list[str]:
    """The error statuses every operation of this shape can answer, beyond what its view documents."""
    public = {} in operation.get("security", [{}])  # AllowAny views: the token endpoint
    statuses = [] if public else ["401", "403"]
    parameters = operation.get("parameters", [])
    if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
        statuses.append("400")
    if any(p["in"] == "path" or p["name"] in ("page", "cursor") for p in parameters):
        statuses.append("404")
    if public:
        statuses.append("429")
    return statuses


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the one error shape, on every error an operation can answer.

    Adds the statuses every operation of its shape can answer (:func:`_errors_of`) and gives the error
    shape to each error status a view documented with a description only (e.g. 409, 503).
    """
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in _errors_of(operation):
                responses.setdefault(status, {"description": ERROR_MEANINGS[status]})
            for status, response in responses.items():
                if int(status) >= 400 and "content" not in response:
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
    return result
