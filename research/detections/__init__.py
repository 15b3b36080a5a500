"What the smoke tables' detected boxes cost, part by part (research/detections/README.md)."
