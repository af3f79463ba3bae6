"""Who must approve what: flagbot.yml, CODEOWNERS, change classification and the decision."""
