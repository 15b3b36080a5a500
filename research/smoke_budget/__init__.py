"How long the smoke profile must train: stage 1 and stage 2 lengths against the mAP (research/smoke_budget/README.md)."
