"""The headline figures of each lab, read by the benchmark from the notebook's kernel.

``FIGURES[lab]`` is a Python *expression*: after the last cell of the solution notebook has
run, ``benchmarks/run.py`` evaluates it in the same kernel (nbclient) and records the dict it
returns (``{model: {metric: number}}``).  Students never see it: the labs carry no
benchmark cell (issue 25).  A lab's owner keeps its entry in step with the notebook's names
(``tests/test_bench_figures.py`` checks that each entry is one expression over names the
solution notebook defines).
"""

FIGURES: dict[str, str] = {
    "lab1_embeddings": """{
    "learned_embeddings": {
        "nn_category_accuracy": share["learned"],
        "nn5_category_accuracy": share["learned, 5 neighbours"],
        "val_accuracy": history.history["val_accuracy"][-1],
    },
    "untrained_embeddings": {"nn_category_accuracy": share["untrained"]},
    "one_hot": {"nn_category_accuracy": share["one-hot"]},
}""",
    "lab2_regularization": """{
    **{f"dropout_{rate}": {"train_accuracy": r["train accuracy"],
                           "val_accuracy": r["validation accuracy"], "gap": r["gap"]}
       for rate, r in dropout_results.items()},
    "digits_without_bn": {"loss_after_5_epochs": histories["without BN"].history["loss"][-1]},
    "digits_with_bn": {"loss_after_5_epochs": histories["with BN"].history["loss"][-1]},
}""",
    "lab3_recsys_explicit": """{
    **{name.replace(" + ", "_").replace(" ", "_"): {"rmse": float(row["rmse"]),
                                                    "mae": float(row["mae"])}
       for name, row in final.iterrows()},
    "seconds_per_epoch": {name: float(value) for name, value in seconds_per_epoch.items()},
}""",
    "lab4_triplet_implicit": """{
    name.replace(" ", "_"): {**{metric: float(value) for metric, value in final.loc[name].items()},
                             "coverage": float(concentration.loc[name, "coverage"]),
                             "top100_share": float(concentration.loc[name, "top-100 share"])}
    for name in final.index
}""",
}
