"""The grading cases of lab2_regularization (see :mod:`tests.cases`).

``right`` holds answers a student could write that satisfy each statement but differ from
the solution (another API, a loop, default initialisers, Keras' advice warnings): each must
earn full marks.  ``wrong`` holds realistic mistakes; every mistake a hint names fails the
*visible* test already.
"""

DROPOUT_BINOMIAL = '''def dropout_forward(x, rate, training, rng):
    """Inverted dropout with a Bernoulli mask."""
    if not training:
        return x
    mask = rng.binomial(1, 1 - rate, size=x.shape)
    return x * mask / (1 - rate)
'''

DROPOUT_LOOP = '''def dropout_forward(x, rate, training, rng):
    """Inverted dropout, one entry at a time."""
    out = np.array(x, dtype=float)
    if training:
        for index in np.ndindex(out.shape):
            if rng.random() < rate:
                out[index] = 0.0
            else:
                out[index] = out[index] / (1 - rate)
    return out
'''

DROPOUT_WHERE = '''def dropout_forward(x, rate, training, rng):
    keep_prob = 1.0 - rate
    if training:
        return np.where(rng.uniform(size=np.shape(x)) < keep_prob, x / keep_prob, 0.0)
    return np.copy(x)
'''

MLP_FUNCTIONAL = '''def build_mlp(dropout_rate, units=256, depth=3, l2=0.0):
    inputs = keras.Input(shape=(2,))
    h = inputs
    for i in range(depth):
        h = keras.layers.Dense(units, kernel_regularizer=keras.regularizers.l2(l2),
                               name=f"hidden_{i}")(h)
        h = keras.layers.ReLU()(h)
        h = keras.layers.Dropout(rate=dropout_rate)(h)
    score = keras.layers.Dense(1, kernel_regularizer=keras.regularizers.l2(l2))(h)
    probability = keras.layers.Activation("sigmoid")(score)
    model = keras.Model(inputs, probability)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003),
                  loss=keras.losses.BinaryCrossentropy(), metrics=["accuracy"])
    return model
'''

MLP_INPUT_SHAPE = '''def build_mlp(dropout_rate, units=256, depth=3, l2=0.0):
    reg = keras.regularizers.L1L2(l2=l2) if l2 else None
    model = keras.Sequential()
    model.add(keras.layers.Dense(units, activation="relu", input_shape=(2,),
                                 kernel_regularizer=reg))
    model.add(keras.layers.Dropout(dropout_rate))
    for _ in range(depth - 1):
        model.add(keras.layers.Dense(units, activation="relu", kernel_regularizer=reg))
        model.add(keras.layers.Dropout(dropout_rate))
    model.add(keras.layers.Dense(1, activation=keras.activations.sigmoid,
                                 kernel_regularizer=reg))
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.binary_crossentropy, metrics=["accuracy"])
    return model
'''

BN_LOOP = '''def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, training,
                      momentum=0.99, epsilon=1e-3):
    y = np.empty_like(x)
    new_mean, new_var = np.array(moving_mean), np.array(moving_var)
    for j in range(x.shape[1]):
        column = x[:, j]
        if training:
            mean, var = column.mean(), column.std() ** 2
            new_mean[j] = moving_mean[j] + (1 - momentum) * (mean - moving_mean[j])
            new_var[j] = moving_var[j] + (1 - momentum) * (var - moving_var[j])
        else:
            mean, var = moving_mean[j], moving_var[j]
        y[:, j] = (column - mean) / np.sqrt(var + epsilon) * gamma[j] + beta[j]
    return y, new_mean, new_var
'''

BN_KERAS_OPS = '''def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, training,
                      momentum=0.99, epsilon=1e-3):
    ops = keras.ops
    if training:
        mean, var = ops.moments(ops.convert_to_tensor(x), axes=[0])
        new_mean = momentum * ops.convert_to_tensor(moving_mean) + (1 - momentum) * mean
        new_var = momentum * ops.convert_to_tensor(moving_var) + (1 - momentum) * var
    else:
        mean, var = ops.convert_to_tensor(moving_mean), ops.convert_to_tensor(moving_var)
        new_mean, new_var = mean, var
    y = gamma * (x - mean) * ops.rsqrt(var + epsilon) + beta
    return y, new_mean, new_var
'''

DEEP_FUNCTIONAL = '''def build_deep_mlp(batch_norm, input_dim=64, units=64, depth=8,
                   num_classes=10):
    inputs = keras.Input(shape=(input_dim,))
    h = inputs
    for _ in range(depth):
        if batch_norm:
            h = keras.layers.Dense(units, use_bias=False)(h)
            h = keras.layers.BatchNormalization()(h)
            h = keras.ops.relu(h)
        else:
            h = keras.layers.Dense(units, activation="relu")(h)
    outputs = keras.layers.Softmax()(keras.layers.Dense(num_classes)(h))
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    return model
'''

DEEP_NESTED_BLOCKS = '''def build_deep_mlp(batch_norm, input_dim=64, units=64, depth=8,
                   num_classes=10):
    model = keras.Sequential()
    for i in range(depth):
        if batch_norm:
            block = keras.Sequential([
                keras.layers.Dense(units, use_bias=False, kernel_initializer="he_normal"),
                keras.layers.BatchNormalization(),
                keras.layers.ReLU(),
            ], name=f"block_{i}")
        else:
            block = keras.layers.Dense(units, activation="relu", kernel_initializer="he_normal")
        model.add(block)
    model.add(keras.layers.Dense(num_classes, activation="softmax"))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model
'''

CASES = {
    "right": {
        # Exercise 1: a Bernoulli mask; a loop over the entries; rng.uniform and np.where.
        "dropout_binomial": [("dropout_forward", None, DROPOUT_BINOMIAL)],
        "dropout_loop": [("dropout_forward", None, DROPOUT_LOOP)],
        "dropout_where": [("dropout_forward", None, DROPOUT_WHERE)],
        # Exercise 2: functional API with the ReLU and the sigmoid as layers, a regularizer
        # even when l2 == 0, loss and optimiser objects; Keras 2 style input_shape= (Keras
        # warns: the test cell stays quiet); a Sequential with no input layer.
        "mlp_functional": [("build_mlp", None, MLP_FUNCTIONAL)],
        "mlp_input_shape": [("build_mlp", None, MLP_INPUT_SHAPE)],
        "mlp_unbuilt": [("build_mlp", "layers = [keras.Input(shape=(2,))]", "layers = []")],
        # Exercise 3: a loop over the features in float32; keras.ops returning tensors.
        "bn_loop": [("batchnorm_forward", None, BN_LOOP)],
        "bn_keras_ops": [("batchnorm_forward", None, BN_KERAS_OPS)],
        # Exercise 4: functional API with the ReLU as an op and a Softmax layer; blocks as
        # nested Sequential models with He initialisation and no input layer.
        "deep_functional": [("build_deep_mlp", None, DEEP_FUNCTIONAL)],
        "deep_nested_blocks": [("build_deep_mlp", None, DEEP_NESTED_BLOCKS)],
    },
    "wrong": {
        "wrong_dropout_scale": ("dropout_forward", "return x * keep / (1.0 - rate)",
                                "return x * keep", ["test_dropout_forward"]),
        "wrong_dropout_inference": ("dropout_forward", "if not training or rate == 0:",
                                    "if rate == 0:", ["test_dropout_forward"]),
        "dropout_fixed_mask": ("dropout_forward", "keep = rng.random(x.shape) >= rate",
                               "keep = np.random.default_rng(0).random(x.shape) >= rate",
                               ["test_dropout_forward"]),
        "dropout_global_rng": ("dropout_forward", "keep = rng.random(x.shape) >= rate",
                               "keep = np.random.random(x.shape) >= rate",
                               ["test_dropout_forward"]),
        "dropout_keeps_rate": ("dropout_forward", "keep = rng.random(x.shape) >= rate",
                               "keep = rng.random(x.shape) < rate", ["test_dropout_forward"]),
        "wrong_mlp_no_dropout": ("build_mlp",
                                 "layers.append(keras.layers.Dropout(dropout_rate))",
                                 "pass", ["test_build_mlp"]),
        "wrong_mlp_no_l2": ("build_mlp", "if l2 > 0 else None", "if False else None",
                            ["test_build_mlp"]),
        "mlp_l2_hidden_only": ("build_mlp", 'activation="sigmoid", '
                               "kernel_regularizer=regularizer)", 'activation="sigmoid")',
                               ["test_build_mlp"]),
        "mlp_l2_on_biases": ("build_mlp", 'activation="sigmoid", '
                             "kernel_regularizer=regularizer)", 'activation="sigmoid", '
                             "kernel_regularizer=regularizer, bias_regularizer=regularizer)",
                             ["test_build_mlp"]),
        "mlp_no_sigmoid": ("build_mlp", 'keras.layers.Dense(1, activation="sigmoid", ',
                           "keras.layers.Dense(1, ", ["test_build_mlp"]),
        "mlp_mse": ("build_mlp", 'loss="binary_crossentropy"', 'loss="mse"',
                    ["test_build_mlp"]),
        "wrong_bn_variance": ("batchnorm_forward", "x.var(axis=0)", "x.var(axis=0, ddof=1)",
                              ["test_batchnorm_forward"]),
        "bn_momentum_swapped": ("batchnorm_forward",
                                "new_mean = momentum * moving_mean + (1 - momentum) * mean",
                                "new_mean = (1 - momentum) * moving_mean + momentum * mean",
                                ["test_batchnorm_forward"]),
        "wrong_bn_inference": ("batchnorm_forward", "mean, var = moving_mean, moving_var",
                               "mean, var = x.mean(axis=0), x.var(axis=0)",
                               ["test_batchnorm_inference"]),
        "wrong_bn_placement": ("build_deep_mlp",
                               "keras.layers.BatchNormalization(), "
                               'keras.layers.Activation("relu")]',
                               'keras.layers.Activation("relu"), '
                               "keras.layers.BatchNormalization()]",
                               ["test_build_deep_mlp"]),
        "bn_dense_with_bias": ("build_deep_mlp", "keras.layers.Dense(units, use_bias=False)",
                               "keras.layers.Dense(units)", ["test_build_deep_mlp"]),
        "deep_wrong_loss": ("build_deep_mlp", 'loss="sparse_categorical_crossentropy"',
                            'loss="categorical_crossentropy"', ["test_build_deep_mlp"]),
    },
    "syntax_error": "wrong_bn_variance",
    "infinite_loop": "wrong_dropout_scale",
    "deleted_test": "test_dropout_forward",
    "duplicated_test": "test_build_mlp",
    "compare": "wrong_bn_variance",
}
