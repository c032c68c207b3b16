from deepsad.cli.single_run import single_experiment


def test_a_param_flag_overrides_the_files_grid_of_that_parameter(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('datasets = "cardio"\nmethods = "deepsad"\nratio_known_anomaly = 0.01\n'
                      "[param_grid.deepsad]\neta = [10.0]\n")
    experiment = single_experiment(config, {}, None, (), ("eta=5.0",))
    assert experiment.params["eta"] == 5.0
    assert single_experiment(config, {}, None, (), ()).params["eta"] == 10.0
