"""Errors of page requests as pages in Vietnamese (app.problem_handlers.answer asks here first).

A request is a page's when its path is outside the API and its first segment is a page's
(``/bao-cao/...``, ``/dieu-tra/...``, ``/quan-tri/...``, ``/`` ...), whatever the error: an
unknown path under the pages, a method the page does not take (405, with ``Allow``), a link
FastAPI could not read (422). Any other path outside the API (``/khong-co``) is answered as a
page when the client asks for HTML (a browser's ``Accept``), else as problem+json, which
systems expect. Everything under ``/api`` stays problem+json (contract, General).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.errors import Problem
from app.web.templating import render

#: First path segments that are never pages: the API, its schema and docs, operations.
NOT_PAGES = frozenset({"api", "openapi.json", "docs", "redoc", "healthz", "readyz", "metrics"})

#: (title, message) by status; anything else is told as the generic error.
MESSAGES: dict[int, tuple[str, str]] = {
    400: (
        "Yêu cầu không hợp lệ",
        "Trang không đọc được yêu cầu này. Hãy mở lại trang từ đường liên kết.",
    ),
    403: ("Không có quyền truy cập", "Trang này không dành cho vai trò của tổ chức bạn."),
    404: ("Không tìm thấy", "Không có trang này, hoặc bạn không xem được nó."),
    405: (
        "Không thực hiện được thao tác này",
        "Trang này không nhận yêu cầu gửi theo cách đó. Hãy mở lại trang từ đường liên kết.",
    ),
    409: (
        "Chưa thực hiện được",
        "Thao tác đang được xử lý hoặc không còn phù hợp. Hãy tải lại trang.",
    ),
    413: (
        "Nội dung gửi quá lớn",
        "Biểu mẫu gửi quá lớn (tối đa 1 MiB). Hãy rút gọn nội dung rồi gửi lại.",
    ),
    415: ("Yêu cầu không hợp lệ", "Trang không đọc được nội dung đã gửi."),
    422: (
        "Liên kết không hợp lệ",
        "Liên kết này không còn dùng được. Hãy mở lại trang từ danh sách.",
    ),
    429: ("Quá nhiều yêu cầu", "Bạn đã gửi quá nhiều yêu cầu. Hãy đợi một lát rồi thử lại."),
    503: ("Hệ thống đang bận", "Hệ thống đang quá tải. Hãy thử lại sau ít phút."),
}
GENERIC = (
    "Đã có lỗi",
    "Hệ thống gặp lỗi và đã ghi lại để xử lý. Hãy thử lại sau; nếu vụ việc khẩn cấp, hãy báo "
    "cho cơ quan quản lý lao động và công an qua điện thoại.",
)


def _page_segments(request: Request) -> frozenset[str]:
    """The first path segments of the pages (app.web.router puts them in the app's state)."""
    segments: frozenset[str] = getattr(request.app.state, "page_segments", frozenset())
    return segments


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "text/html" in accept or "application/xhtml+xml" in accept


def is_page_request(request: Request) -> bool:
    first = request.url.path.strip("/").split("/")[0]
    if first in NOT_PAGES:
        return False
    return first in _page_segments(request) or _wants_html(request)


def page_error(request: Request, problem: Problem) -> Response | None:
    """The error page for a page request, or None to answer with problem+json."""
    if not is_page_request(request):
        return None
    title, message = MESSAGES.get(problem.status, GENERIC)
    return render(
        "error.html",
        {"title": title, "message": message, "person": None, "status": problem.status},
        status_code=problem.status,
        headers=dict(problem.headers),
    )
