"""The grading cases of lab3_recsys_explicit (see :mod:`tests.cases`)."""

CASES = {
    "right": {
        # Exercise 1: sizes and means computed apart, merged with the titles, sorted by two keys
        # descending with one flag.
        "stats_merge": [("movie_stats", None, """\
def movie_stats(ratings, items, min_ratings=1):
    counts = ratings.groupby("item_id").size().rename("count")
    averages = ratings.groupby("item_id")["rating"].mean().rename("mean_rating")
    stats = pd.concat([counts, averages], axis=1).reset_index()
    stats = stats.merge(items[["item_id", "title"]], on="item_id", how="left")
    stats = stats[stats["count"] >= min_ratings].set_index("item_id")
    stats = stats.sort_values(by=["mean_rating", "count"], ascending=False)
    return stats[["title", "count", "mean_rating"]]
""")],
        # Exercise 1: a plain loop over the movies.
        "stats_loop": [("movie_stats", None, """\
def movie_stats(ratings, items, min_ratings=1):
    titles = dict(zip(items["item_id"], items["title"]))
    rows = {}
    for item_id, part in ratings.groupby("item_id"):
        if len(part) >= min_ratings:
            rows[item_id] = {"title": titles[item_id], "count": len(part),
                             "mean_rating": part["rating"].sum() / len(part)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    order = sorted(table.index, key=lambda i: (-table.loc[i, "mean_rating"],
                                               -table.loc[i, "count"]))
    return table.loc[order]
""")],
        # Exercise 2: join on an index and counts looked up one by one.
        "context_join_loop": [("add_context", None, """\
def add_context(ratings, users, reference):
    info = users.set_index("user_id")[["age", "gender", "occupation"]]
    out = ratings.join(info, on="user_id")
    user_counts = reference.groupby("user_id").size()
    item_counts = reference.groupby("item_id").size()
    out["user_count"] = [int(user_counts.get(u, 0)) for u in out["user_id"]]
    out["item_count"] = [int(item_counts.get(i, 0)) for i in out["item_id"]]
    return out
""")],
        # Exercise 3: scikit-learn's metrics on flattened inputs.
        "metrics_sklearn": [("regression_metrics", None, """\
from sklearn.metrics import mean_absolute_error, root_mean_squared_error


def rmse(y_true, y_pred):
    return float(root_mean_squared_error(np.ravel(y_true), np.ravel(y_pred)))


def mae(y_true, y_pred):
    return float(mean_absolute_error(np.ravel(y_true), np.ravel(y_pred)))
""")],
        # Exercise 3: plain Python loops.
        "metrics_loop": [("regression_metrics", None, """\
import math


def rmse(y_true, y_pred):
    pairs = list(zip(np.ravel(y_true), np.ravel(y_pred)))
    return math.sqrt(sum((float(t) - float(p)) ** 2 for t, p in pairs) / len(pairs))


def mae(y_true, y_pred):
    pairs = list(zip(np.ravel(y_true), np.ravel(y_pred)))
    return sum(abs(float(t) - float(p)) for t, p in pairs) / len(pairs)
""")],
        # Exercise 4: pandas group-bys instead of bincount.
        "biases_pandas": [("fit_biases", None, """\
def fit_biases(ratings, num_users, num_items, reg=10.0):
    mu = ratings["rating"].mean()
    item_bias = np.zeros(num_items + 1)
    by_item = (ratings["rating"] - mu).groupby(ratings["item_id"])
    item_bias[by_item.sum().index] = by_item.sum() / (reg + by_item.count())
    residual = ratings["rating"] - mu - item_bias[ratings["item_id"].to_numpy()]
    by_user = residual.groupby(ratings["user_id"])
    user_bias = np.zeros(num_users + 1)
    user_bias[by_user.sum().index] = by_user.sum() / (reg + by_user.count())
    return mu, user_bias, item_bias
""")],
        # Exercise 4: loops over the ratings.
        "biases_loop": [("fit_biases", None, """\
def fit_biases(ratings, num_users, num_items, reg=10.0):
    rows = list(zip(ratings["user_id"], ratings["item_id"], ratings["rating"]))
    mu = sum(r for _, _, r in rows) / len(rows)
    sums, counts = np.zeros(num_items + 1), np.zeros(num_items + 1)
    for _, i, r in rows:
        sums[i] += r - mu
        counts[i] += 1
    item_bias = sums / (reg + counts)
    sums, counts = np.zeros(num_users + 1), np.zeros(num_users + 1)
    for u, i, r in rows:
        sums[u] += r - mu - item_bias[i]
        counts[u] += 1
    return mu, sums / (reg + counts), item_bias
""")],
        # Exercise 5: Keras's default initialisers everywhere (random initial biases), no seed:
        # the false failure of issue 23 (the test expected zero biases).
        "mf_default_init": [
            ("build_mf_model", "    init = keras.initializers.RandomNormal(stddev=0.05, "
             "seed=0)\n", ""),
            ("build_mf_model", " embeddings_initializer=init,", ""),
            ("build_mf_model", 'embeddings_initializer="zeros",\n' + " " * 33, ""),
        ],
        # Exercise 5: the dot product as an element-wise product summed over the last axis.
        "mf_multiply_sum": [("build_mf_model", "dot = keras.layers.Dot(axes=1)([u, v])",
                             "dot = keras.ops.sum(keras.layers.Multiply()([u, v]), axis=1, "
                             "keepdims=True)")],
        # Exercise 5: no layer names, default initialisers, the mean added with "+", the loss
        # and the penalty given as objects.
        "mf_plus_operator": [("build_mf_model", None, """\
def build_mf_model(num_users, num_items, embedding_dim=32, l2=5e-5, global_mean=3.5):
    users = keras.Input(shape=(), dtype="int32", name="user_id")
    items = keras.Input(shape=(), dtype="int32", name="item_id")

    def table(rows, width, ids):
        return keras.layers.Embedding(rows, width,
                                      embeddings_regularizer=keras.regularizers.l2(l2))(ids)

    p, q = table(num_users + 1, embedding_dim, users), table(num_items + 1, embedding_dim, items)
    score = keras.layers.Dot(axes=-1)([p, q])
    rating = score + table(num_users + 1, 1, users) + table(num_items + 1, 1, items) + global_mean
    model = keras.Model(inputs=[users, items], outputs=rating)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.002),
                  loss=keras.losses.MeanSquaredError(),
                  metrics=[keras.metrics.RootMeanSquaredError(name="rmse")])
    return model
""")],
        # Exercise 6: the seen items masked with -inf, a reversed argsort.
        "recommend_mask": [("recommend", None, """\
def recommend(model, user_id, seen_items, num_items, k=10):
    ids = np.arange(1, num_items + 1)
    scores = model.predict({"user_id": np.full(num_items, user_id), "item_id": ids},
                           verbose=0)[:, 0]
    masked = scores.copy()
    masked[np.isin(ids, np.asarray(list(seen_items), dtype=int))] = -np.inf
    best = np.argsort(masked)[::-1][:k]
    return ids[best], scores[best]
""")],
        # Exercise 6: a pandas Series and nlargest.
        "recommend_pandas": [("recommend", None, """\
def recommend(model, user_id, seen_items, num_items, k=10):
    ids = np.arange(1, num_items + 1)
    predicted = model.predict({"user_id": np.repeat(user_id, num_items), "item_id": ids},
                              verbose=0).ravel()
    series = pd.Series(predicted, index=ids).drop(index=list(seen_items), errors="ignore")
    top = series.nlargest(k)
    return top.index.to_numpy(), top.to_numpy()
""")],
        # Exercise 7: ReLU as its own layer, a named linear output, the mean added with "+",
        # the loss as an object, no names.
        "deep_activation_layers": [("build_deep_model", None, """\
def build_deep_model(num_users, num_items, embedding_dim=32, hidden_units=(64,),
                     dropout_rate=0.3, global_mean=3.5):
    user_id = keras.Input(shape=(), dtype="int32", name="user_id")
    item_id = keras.Input(shape=(), dtype="int32", name="item_id")
    x = keras.layers.Concatenate()([keras.layers.Embedding(num_users + 1, embedding_dim)(user_id),
                                    keras.layers.Embedding(num_items + 1, embedding_dim)(item_id)])
    for units in hidden_units:
        x = keras.layers.Dense(units)(x)
        x = keras.layers.Activation("relu")(x)
        x = keras.layers.Dropout(rate=dropout_rate)(x)
    rating = keras.layers.Dense(1, activation="linear")(x) + global_mean
    model = keras.Model([user_id, item_id], rating)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.002),
                  loss=keras.losses.MeanSquaredError(),
                  metrics=[keras.metrics.RootMeanSquaredError(name="rmse")])
    return model
""")],
        # Exercise 8: the feature tables as constant-initialised frozen embeddings, the item's
        # parts first.
        "metadata_constant_tables": [("build_metadata_model", None, """\
def build_metadata_model(num_users, num_items, user_table, item_table, embedding_dim=32,
                         hidden_units=(64,), dropout_rate=0.3, global_mean=3.5,
                         item_embedding=True):
    user_id = keras.Input(shape=(), dtype="int32", name="user_id")
    item_id = keras.Input(shape=(), dtype="int32", name="item_id")

    def frozen(table, ids):
        layer = keras.layers.Embedding(
            table.shape[0], table.shape[1],
            embeddings_initializer=keras.initializers.Constant(table))
        layer.trainable = False
        return layer(ids)

    parts = [frozen(item_table, item_id)]
    if item_embedding:
        parts.append(keras.layers.Embedding(num_items + 1, embedding_dim)(item_id))
    parts += [frozen(user_table, user_id),
              keras.layers.Embedding(num_users + 1, embedding_dim)(user_id)]
    x = keras.layers.Concatenate()(parts)
    for units in hidden_units:
        x = keras.layers.Dropout(dropout_rate)(keras.layers.Dense(units, activation="relu")(x))
    rating = keras.layers.Dense(1)(x) + global_mean
    model = keras.Model([user_id, item_id], rating,
                        name="hybrid" if item_embedding else "content")
    model.compile(optimizer="adam", loss="mean_squared_error",
                  metrics=[keras.metrics.RootMeanSquaredError(name="rmse")])
    return model
""")],
        # Exercise 8: the feature rows taken from constant tensors (no weights at all; Keras
        # cannot infer a Lambda's output shape here, so it is given).
        "metadata_ops_take": [("build_metadata_model", None, """\
def build_metadata_model(num_users, num_items, user_table, item_table, embedding_dim=32,
                         hidden_units=(64,), dropout_rate=0.3, global_mean=3.5,
                         item_embedding=True):
    user_id = keras.Input(shape=(), dtype="int32", name="user_id")
    item_id = keras.Input(shape=(), dtype="int32", name="item_id")
    users_ = keras.ops.convert_to_tensor(np.asarray(user_table, dtype="float32"))
    items_ = keras.ops.convert_to_tensor(np.asarray(item_table, dtype="float32"))
    user_rows = keras.layers.Lambda(lambda ids: keras.ops.take(users_, ids, axis=0),
                                    output_shape=(user_table.shape[1],))(user_id)
    item_rows = keras.layers.Lambda(lambda ids: keras.ops.take(items_, ids, axis=0),
                                    output_shape=(item_table.shape[1],))(item_id)
    parts = [keras.layers.Embedding(num_users + 1, embedding_dim)(user_id), user_rows, item_rows]
    if item_embedding:
        parts.append(keras.layers.Embedding(num_items + 1, embedding_dim)(item_id))
    x = keras.layers.Concatenate(axis=-1)(parts)
    for units in hidden_units:
        x = keras.layers.Dense(units, activation="relu")(x)
        x = keras.layers.Dropout(dropout_rate)(x)
    rating = keras.layers.Rescaling(1.0, offset=global_mean)(keras.layers.Dense(1)(x))
    model = keras.Model([user_id, item_id], rating,
                        name="hybrid" if item_embedding else "content")
    model.compile(optimizer=keras.optimizers.Adam(0.002), loss="mse",
                  metrics=[keras.metrics.RootMeanSquaredError(name="rmse")])
    return model
""")],
        # Exercise 9: one aggregation over two helper columns.
        "groups_agg": [("error_by_group", None, """\
def error_by_group(frame, column):
    errors = frame.assign(squared=(frame["prediction"] - frame["rating"]) ** 2,
                          absolute=(frame["prediction"] - frame["rating"]).abs())
    table = errors.groupby(column, observed=True).agg(
        count=("squared", "size"), rmse=("squared", "mean"), mae=("absolute", "mean"))
    table["rmse"] = np.sqrt(table["rmse"])
    return table.sort_index()
""")],
        # Exercise 9: a loop over the groups that occur.
        "groups_loop": [("error_by_group", None, """\
def error_by_group(frame, column):
    rows = {}
    for value in frame[column].dropna().unique():
        part = frame[frame[column] == value]
        error = (part["prediction"] - part["rating"]).to_numpy(dtype=float)
        rows[value] = {"count": len(part), "rmse": float(np.sqrt(np.mean(error ** 2))),
                       "mae": float(np.mean(np.abs(error)))}
    return pd.DataFrame.from_dict(rows, orient="index").sort_index()
""")],
        # Exercise 10: scikit-learn's cosine similarity.
        "similar_sklearn": [("most_similar", None, """\
from sklearn.metrics.pairwise import cosine_similarity


def most_similar(item_embeddings, item_id, k=5):
    similarity = cosine_similarity(item_embeddings, item_embeddings[item_id:item_id + 1])[:, 0]
    similarity[0] = similarity[item_id] = -2.0
    return np.argsort(-similarity, kind="stable")[:k]
""")],
        # Exercise 10: a loop, and only the candidates normalised (the query's norm is a
        # constant factor: the same ranking).
        "similar_loop": [("most_similar", None, """\
def most_similar(item_embeddings, item_id, k=5):
    query = np.asarray(item_embeddings[item_id], dtype=float)
    scored = []
    for other in range(1, len(item_embeddings)):
        if other != item_id:
            vector = np.asarray(item_embeddings[other], dtype=float)
            scored.append((-(query @ vector) / np.linalg.norm(vector), other))
    return np.array([other for _, other in sorted(scored)[:k]])
""")],
        # Exercise 11: own metric functions and a list of columns as sensitive features.
        "fairlearn_own_metrics": [("group_metrics", None, """\
from fairlearn.metrics import MetricFrame


def group_metrics(frame, columns):
    def rmse_(y_true, y_pred):
        return float(np.sqrt(np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2)))

    def mae_(y_true, y_pred):
        return float(np.mean(np.abs(np.asarray(y_true) - np.asarray(y_pred))))

    return MetricFrame(metrics={"count": lambda y_true, y_pred: len(y_true), "rmse": rmse_,
                                "mae": mae_},
                       y_true=frame["rating"].to_numpy(), y_pred=frame["prediction"].to_numpy(),
                       sensitive_features=frame[columns])
""")],
    },
    "wrong": {
        "wrong_sort": ("movie_stats", "ascending=[False, False]", "ascending=[True, False]",
                       ["test_movie_stats"]),
        "wrong_merge_key": ("add_context", 'on="user_id", how="left"',
                            'left_on="item_id", right_on="user_id", how="left"',
                            ["test_add_context"]),
        "wrong_count_source": ("add_context",
                               'out["item_id"].map(reference["item_id"].value_counts())',
                               'out["item_id"].map(ratings["item_id"].value_counts())',
                               ["test_add_context"]),
        "wrong_count_missing": ("add_context",
                                '.value_counts()).fillna(0)\n    out[["user_count", '
                                '"item_count"]] = out[["user_count", "item_count"]]'
                                '.astype(int)',
                                '.value_counts())', ["test_add_context"]),
        "wrong_rmse_no_root": ("regression_metrics", "float(np.sqrt(np.mean(",
                               "float((np.mean(", ["test_rmse"]),
        "wrong_mae_signed": ("regression_metrics", "np.mean(np.abs(y_true.ravel() - "
                             "y_pred.ravel()))", "np.abs(np.mean(y_true.ravel() - "
                             "y_pred.ravel()))", ["test_mae"]),
        "wrong_user_bias": ("fit_biases", "r - mu - item_bias[i]", "r - mu",
                            ["test_fit_biases"]),
        "wrong_mf_no_user_bias": ("build_mf_model", "keras.layers.Add()([dot, b_u, b_i])",
                                  "keras.layers.Add()([dot, b_i])", ["test_build_mf_model"]),
        "mf_cosine": ("build_mf_model", "keras.layers.Dot(axes=1)([u, v])",
                      "keras.layers.Dot(axes=1, normalize=True)([u, v])",
                      ["test_build_mf_model"]),
        "mf_no_global_mean": ("build_mf_model", "offset=global_mean", "offset=0.0",
                              ["test_build_mf_model"]),
        "mf_rows_off_by_one": ("build_mf_model", "keras.layers.Embedding(num_users + 1, "
                               "embedding_dim,", "keras.layers.Embedding(num_users, "
                               "embedding_dim,", ["test_build_mf_model"]),
        "mf_bias_unpenalised": ("build_mf_model", 'embeddings_regularizer=reg, name="item_bias"',
                                'name="item_bias"', ["test_build_mf_model"]),
        "mf_mae_loss": ("build_mf_model", 'loss="mse"', 'loss="mae"', ["test_build_mf_model"]),
        "wrong_recommend_order": ("recommend", "np.argsort(-scores,", "np.argsort(scores,",
                                  ["test_recommend"]),
        "wrong_deep_sigmoid": ("build_deep_model", "x = keras.layers.Dense(1)(x)",
                               'x = keras.layers.Dense(1, activation="sigmoid")(x)',
                               ["test_build_deep_model"]),
        "wrong_deep_dropout": ("build_deep_model", "keras.layers.Dropout(dropout_rate)",
                               "keras.layers.Dropout(0.9)", ["test_build_deep_model"]),
        "wrong_deep_loss": ("build_deep_model", 'loss="mse"',
                            'loss="sparse_categorical_crossentropy"',
                            ["test_build_deep_model"]),
        "wrong_deep_five_outputs": ("build_deep_model", "x = keras.layers.Dense(1)(x)",
                                    "x = keras.layers.Dense(5)(x)", ["test_build_deep_model"]),
        "wrong_tables_trained": ("build_metadata_model", "trainable=False", "trainable=True",
                                 ["test_build_metadata_model"]),
        "wrong_no_user_features": ("build_metadata_model",
                                   '        keras.layers.Embedding(*user_table.shape, '
                                   'weights=[user_table], trainable=False,\n'
                                   '                               name="user_metadata")'
                                   '(user_id),\n', "", ["test_build_metadata_model"]),
        "wrong_item_embedding_always": ("build_metadata_model", "    if item_embedding:\n"
                                        "        parts.append(", "    if True:\n"
                                        "        parts.append(",
                                        ["test_build_metadata_model"]),
        "wrong_group_rmse": ("error_by_group", "float(np.sqrt(np.mean(e ** 2)))",
                             "float(np.mean(e ** 2))", ["test_error_by_group"]),
        "wrong_similar_self": ("most_similar", "similarity[[0, item_id]] = -np.inf",
                               "similarity[[0]] = -np.inf", ["test_most_similar"]),
        "similar_dot": ("most_similar", "    E = E / np.maximum(np.linalg.norm(E, axis=1, "
                        "keepdims=True), 1e-12)\n", "", ["test_most_similar"]),
        "similar_row_zero": ("most_similar", "similarity[[0, item_id]] = -np.inf",
                             "similarity[item_id] = -np.inf", ["test_most_similar"]),
        "biases_no_reg": ("fit_biases", "/ (reg + np.bincount(i, None, num_items + 1))",
                          "/ np.maximum(np.bincount(i, None, num_items + 1), 1)",
                          ["test_fit_biases"]),
        "deep_relu_output": ("build_deep_model", "x = keras.layers.Dense(1)(x)",
                             'x = keras.layers.Dense(1, activation="relu")(x)',
                             ["test_build_deep_model"]),
        "wrong_fairlearn_copy": ("group_metrics", '"rmse": root_mean_squared_error',
                                 '"rmse": mean_absolute_error', ["test_group_metrics"]),
        "wrong_fairlearn_one_feature": ("group_metrics",
                                        "sensitive_features=frame[list(columns)]",
                                        "sensitive_features=frame[columns[0]]",
                                        ["test_group_metrics"]),
    },
    "syntax_error": "wrong_rmse_no_root",
    "infinite_loop": "wrong_sort",
    "deleted_test": "test_rmse",
    "duplicated_test": "test_fit_biases",
    "compare": "wrong_user_bias",
}
