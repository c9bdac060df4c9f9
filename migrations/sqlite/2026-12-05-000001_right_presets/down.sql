DROP TABLE right_presets;
