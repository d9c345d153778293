# Duplicated code in terraform/: blocks of 6+ lines (and 20+ tokens, so a bare required_providers block
# is not a finding) repeated between or within Terraform files, counted by the jscpd pinned in package.json
# with the committed configuration .jscpd.json, so anyone can repeat it. The .terraform.lock.hcl files are
# written by terraform init, not by hand, and are not counted. fe74125 (before issue 14): 40 pairs.

JSCPD := node_modules/.bin/jscpd
JSCPD_REPORT := build/jscpd
define JSCPD_SUMMARY
import json, sys
pairs = json.load(open(sys.argv[1]))["duplicates"]
for pair in pairs:
    first, second = pair["firstFile"], pair["secondFile"]
    print(f"  {first['name']}:{first['start']}-{first['end']}  =  {second['name']}:{second['start']}-{second['end']}")
print(f"duplicated blocks (jscpd clone pairs) in terraform/: {len(pairs)}")
endef
export JSCPD_SUMMARY

.PHONY: dup
dup: $(NODE_STAMP) ## Count duplicated blocks (6+ lines) in terraform/ with the pinned jscpd and .jscpd.json
	@rm -rf $(JSCPD_REPORT)
	@$(JSCPD) --config .jscpd.json --reporters json --output $(JSCPD_REPORT) >$(JSCPD_REPORT).log 2>&1 || \
		{ cat $(JSCPD_REPORT).log >&2; exit 1; }
	@$(PYTHON) -c "$$JSCPD_SUMMARY" $(JSCPD_REPORT)/jscpd-report.json
