"""Admin searches bounded as the site's search is: a change list's `q` or an autocomplete's `term`
over 100 characters, or holding a NUL, is a 400 saying so (SQLite refuses a LIKE pattern that
long, PostgreSQL any NUL)."""

from django.core.exceptions import BadRequest

SEARCH_MAX_LENGTH = 100


class BoundedSearchMixin:
    def get_search_results(self, request, queryset, search_term):
        if len(search_term) > SEARCH_MAX_LENGTH:
            raise BadRequest(f"The search is too long: at most {SEARCH_MAX_LENGTH} characters.")
        if "\x00" in search_term:
            raise BadRequest("The search holds a NUL character.")
        return super().get_search_results(request, queryset, search_term)
