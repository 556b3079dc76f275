# Translation workflow (the ordinary gettext one). The tests fail when messages.pot is stale
# or a shipped language is incomplete, so run `make strings` after changing user-visible text.
PYBABEL ?= .venv/bin/pybabel
KEYWORDS = -k N_ -k NC_:1c,2 -k plain -k Invalid -k Stopped

extract-strings:
	$(PYBABEL) extract -F locales/babel.cfg $(KEYWORDS) -c "Translators:" --no-location --sort-output --width 100 \
		--project "KIM Casebot" --msgid-bugs-address "" -o locales/messages.pot .

update-catalogs: extract-strings
	$(PYBABEL) update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete --width 100

strings: update-catalogs

# The bot compiles catalogs in memory at start (and on upload); .mo files are for other tools.
compile-catalogs:
	$(PYBABEL) compile -d locales -D messages --statistics

# The exact versions every install takes (README): after changing a dependency in pyproject.toml
lock:
	.venv/bin/pip install -q pip-tools
	.venv/bin/pip-compile --quiet --extra test --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements/test.lock pyproject.toml
	.venv/bin/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements/runtime.lock pyproject.toml

.PHONY: extract-strings update-catalogs strings compile-catalogs lock
